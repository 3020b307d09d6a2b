//! Stage 1, live: packets captured from a network interface through libpcap (`sipdiag
//! watch -i IFACE [BPF]`), as [`Frame`]s numbered from 1 as tcpdump would write them.
//!
//! Built only with the cargo feature `live` (the `pcap` crate links libpcap; the default
//! build needs no C library). Input: an interface name and an optional BPF filter
//! (tcpdump's syntax, compiled by libpcap); output: each packet handed to a callback as it
//! is captured, until nothing has come for `until_idle` or the user stops it (Ctrl-C:
//! [`super::follow::stop_flag`]).

use std::time::{Duration, Instant};

use super::{CaptureError, CaptureFormat, CaptureSummary, Frame, Timestamp};
use crate::capture::follow::IdleHook;

/// How long to wait when no packet has come before looking again (and the idle hook runs).
const POLL: Duration = Duration::from_millis(20);

/// Captures from `iface` with the BPF `filter` (empty: everything), handing each packet
/// to `on_frame`; `on_idle` runs whenever no packet came for a read timeout.
pub fn read_interface(
    iface: &str,
    filter: &str,
    until_idle: Option<Duration>,
    mut on_idle: IdleHook,
    mut on_frame: impl FnMut(&Frame<'_>),
) -> Result<CaptureSummary, CaptureError> {
    let name = format!("{iface} (live)");
    let failed = |what: &str, e: pcap::Error| CaptureError::Read {
        path: name.clone(),
        cause: format!("{what}: {e}"),
    };
    let mut cap = pcap::Capture::from_device(iface)
        .map_err(|e| failed("no such interface", e))?
        .snaplen(65535)
        .immediate_mode(true)
        .open()
        .map_err(|e| failed("cannot capture (root or CAP_NET_RAW needed)", e))?
        // Not blocking: whether a read timeout ends a wait with no packet differs between
        // libpcap's capture mechanisms (immediate mode may wait for ever); a poll that
        // sleeps when nothing came does not.
        .setnonblock()
        .map_err(|e| failed("cannot capture", e))?;
    if !filter.trim().is_empty() {
        cap.filter(filter, true)
            .map_err(|e| failed("the capture filter is not valid BPF", e))?;
    }
    let linktype = cap.get_datalink().0 as u32;
    // As tcpdump says it: from here on, packets are seen.
    eprintln!("sipdiag: listening on {iface}, link-type {linktype}");
    let mut summary = CaptureSummary {
        path: name.clone(),
        format: CaptureFormat::Pcap,
        gzip: false,
        frames: 0,
        anomalies: Vec::new(),
    };
    let mut last_packet = Instant::now();
    loop {
        match cap.next_packet() {
            Ok(p) => {
                last_packet = Instant::now();
                summary.frames += 1;
                let ts = p.header.ts;
                // `time_t` is 32 bits wide on some targets.
                #[allow(clippy::useless_conversion)]
                let frame = Frame {
                    number: summary.frames,
                    time: Timestamp::new(
                        i64::from(ts.tv_sec),
                        u32::try_from(ts.tv_usec).unwrap_or(0).saturating_mul(1000),
                    ),
                    linktype,
                    data: p.data,
                    orig_len: p.header.len,
                };
                on_frame(&frame);
            }
            Err(pcap::Error::TimeoutExpired) => {
                let quiet = last_packet.elapsed();
                if super::follow::stop_requested() || until_idle.is_some_and(|limit| quiet >= limit)
                {
                    break;
                }
                on_idle(quiet);
                std::thread::sleep(POLL);
            }
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => return Err(failed("capture failed", e)),
        }
    }
    Ok(summary)
}
