//! Where `watch` reads from: whole files, a file as it is written (`--follow`, its rotated
//! set included), or an interface (`-i`, cargo feature `live`); Ctrl-C ends a growing
//! input. Input: paths or an interface; output: messages and clock ticks to the
//! [`Judge`], each file's report or error.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;

use crate::capture::Timestamp;
use crate::capture::follow::{Follow, FollowOptions};
use crate::media::UdpPayload;
use crate::net::{Datagram, IcmpError, StreamEvent};
use crate::sip::{CaptureReport, RawMessage, SipMessage};

use super::super::{Emit, Replay, Sink, pipeline};
use super::Judge;

/// What a watch takes from a scan besides SIP messages and the clock: the media, its
/// frames numbered through the files read as the messages' are (`Judge::message`), and
/// the first TCP segment on the softphone port, for the closing summary.
impl Judge {
    /// A datagram that is not SIP, with what was read of its payload where it was decoded
    /// (`read`: UDP that is not STUN, [`UdpPayload::read`]; `d.payload` is then empty).
    fn datagram_in(&mut self, d: &Datagram<'_>, read: Option<UdpPayload>) {
        let d = Datagram {
            frame: d.frame + self.offset,
            ..*d
        };
        self.media.datagram(&d, read);
        if self.media.wants_sweep() {
            self.sweep_media(d.time.secs);
        }
        // The SP003 findings that waited for UDP (the first datagram shows the capture is
        // not one of signalling only).
        self.flush_deferred();
    }

    fn icmp_in(&mut self, e: &IcmpError) {
        let e = IcmpError {
            frame: e.frame + self.offset,
            ..e.clone()
        };
        self.media.icmp(&e);
    }

    fn stream_in(&mut self, e: &StreamEvent<'_>) {
        self.media.stream(&e.renumbered(self.offset));
        let port = self.ports.softphone_port;
        if let StreamEvent::Data { flow, frame, .. } = e
            && self.end.softphone_signalling.is_none()
            && (flow.dst.port() == port || flow.src.port() == port)
        {
            self.softphone_seen(flow, *frame);
        }
    }
}

fn lock(judge: &Mutex<Judge>) -> std::sync::MutexGuard<'_, Judge> {
    judge.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a watch (and a streamed `analyze`) takes from the scan of a file that grows or of
/// an interface: everything, on the reading thread, each message as soon as it is read.
/// A whole file goes to the judge on a second thread instead ([`pipeline::run_replay`]).
struct WatchEmit<'j> {
    sink: WatchSink<'j>,
}

impl Emit for WatchEmit<'_> {
    fn wants_packets(&self) -> bool {
        true
    }
    fn clock(&mut self, now: Timestamp) {
        self.sink.clock(now);
    }
    fn raw(&mut self, m: RawMessage<'_>) {
        if let Some(m) = m.parse() {
            self.sink.message(m);
        }
    }
    fn datagram(&mut self, d: &Datagram<'_>) {
        lock(self.sink.0).datagram_in(d, None);
    }
    fn icmp(&mut self, e: &IcmpError) {
        lock(self.sink.0).icmp_in(e);
    }
    fn stream(&mut self, e: &StreamEvent<'_>) {
        lock(self.sink.0).stream_in(e);
    }
}

/// A whole file read on two threads ([`pipeline::run_replay`]): everything it emits goes
/// to the judge on the second thread, which has it to itself while the file is read.
impl Replay for Judge {
    /// Files read merged: each call notes the files that carried it (rules look at their
    /// damage), as when every call is held.
    fn capture_start(&mut self, index: usize) {
        self.retiring.capture_starts(index);
    }
    fn clock(&mut self, now: Timestamp) {
        self.advance(now);
    }
    fn message(&mut self, m: SipMessage) {
        Judge::message(self, m);
    }
    fn datagram(&mut self, d: &Datagram<'_>, read: Option<UdpPayload>) {
        self.datagram_in(d, read);
    }
    fn icmp(&mut self, e: &IcmpError) {
        self.icmp_in(e);
    }
    fn stream(&mut self, e: &StreamEvent<'_>) {
        self.stream_in(e);
    }
}

/// How often a followed file that has not grown is looked at again.
const POLL: Duration = Duration::from_millis(200);

/// Ctrl-C (SIGINT) and SIGTERM end a watch of a growing input as `--until-idle` does: the
/// reading stops at its next wait, the calls in progress are judged and the summary is
/// printed. A second one ends the process at once (exit code 130).
pub(super) fn stop_on_signals() -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = crate::capture::follow::stop_flag();
    for sig in [SIGINT, SIGTERM] {
        // Registered first: runs when the flag is already set, i.e. from the second on.
        signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&stop))
            .context("installing the Ctrl-C handler")?;
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing the Ctrl-C handler")?;
    }
    Ok(())
}

impl Judge {
    /// The file at `path` is read next.
    fn file_starts(&mut self, path: &str) {
        self.file_path = crate::redact::shown_path(path);
        let (shown, before) = (self.file_path.clone(), self.offset);
        self.files.push_file(shown, before);
    }

    /// The file has been read: its report, or the error that stopped it.
    fn file_read(
        &mut self,
        result: Result<CaptureReport, crate::capture::CaptureError>,
        errors: &mut Vec<crate::capture::CaptureError>,
    ) {
        match result {
            Ok(r) => {
                self.offset += r.frames;
                self.end.captures.push(r);
            }
            Err(e) => errors.push(e),
        }
    }
}

/// Reads one file of the stream: whole (`follow` `None`) or as it is written.
pub(super) fn read_one(
    path: &str,
    follow: Option<Follow>,
    judge: &Mutex<Judge>,
    errors: &mut Vec<crate::capture::CaptureError>,
) {
    lock(judge).file_starts(path);
    let result = match follow {
        Some(f) => {
            let mut emit = WatchEmit {
                sink: WatchSink(judge),
            };
            super::super::scan::scan_following(path, f, &mut emit)
        }
        // A whole file: read, decoded and its SIP parsed on this thread, judged on a
        // second one (which hands the units of `analyze` to a third, [`super::units`]).
        // A growing file stays on one thread: each message is judged as soon as it is
        // read, not once a batch is full.
        None => pipeline::run_replay(&mut *lock(judge), pipeline::Batching::JUDGE, |emit| {
            super::super::scan_into(path, emit)
        }),
    };
    lock(judge).file_read(result, errors);
}

/// Reads files given together (`analyze a.pcap b.pcapng …`) merged by timestamp, as when
/// every call is held ([`super::super::merged`]): the judge numbers frames through the
/// merged stream, and its index of the files is the read's from the end on.
pub(super) fn read_merged(
    paths: &[String],
    judge: &Mutex<Judge>,
    errors: &mut Vec<crate::capture::CaptureError>,
) {
    let mut j = lock(judge);
    // Several files from the start: findings name no one file (frames cite theirs).
    j.files = crate::capture::merge::FrameIndex::merging(paths);
    let (reports, failed, index) =
        pipeline::run_replay(&mut *j, pipeline::Batching::JUDGE, |emit| {
            super::super::merged::scan_merged_into(paths, emit)
        });
    j.end.captures.extend(reports);
    j.files = index;
    errors.extend(failed);
}

/// While the input is quiet, the capture's clock runs on with the wall clock from the
/// last message (a live capture's timestamps are the wall clock), so that calls that have
/// ended are judged even when no packet follows them.
pub(super) fn idle_hook(judge: &Arc<Mutex<Judge>>) -> crate::capture::follow::IdleHook {
    let judge = Arc::clone(judge);
    Box::new(move |quiet: Duration| {
        let Ok(mut j) = judge.try_lock() else {
            return;
        };
        if let Some(last) = j.last_message {
            let now = Timestamp::new(
                last.secs + quiet.as_secs() as i64,
                last.nanos.saturating_add(quiet.subsec_nanos()),
            );
            j.advance(now);
        }
    })
}

/// Captures from an interface (`-i`) until stopped or quiet for `until_idle`.
#[cfg(feature = "live")]
pub(super) fn live(
    iface: &str,
    filter: &str,
    until_idle: Option<Duration>,
    judge: &Arc<Mutex<Judge>>,
    errors: &mut Vec<crate::capture::CaptureError>,
) -> anyhow::Result<()> {
    let name = format!("{iface} (live)");
    judge.lock().unwrap_or_else(|e| e.into_inner()).file_path = name.clone();
    let hook = idle_hook(judge);
    let mut emit = WatchEmit {
        sink: WatchSink(judge),
    };
    let result = super::super::scan::scan_frames(&name, &mut emit, |on_frame| {
        crate::capture::live::read_interface(iface, filter, until_idle, hook, on_frame)
    });
    match result {
        Ok(r) => judge
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .end
            .captures
            .push(r),
        Err(e) => errors.push(e),
    }
    Ok(())
}

#[cfg(not(feature = "live"))]
pub(super) fn live(
    _: &str,
    _: &str,
    _: Option<Duration>,
    _: &Arc<Mutex<Judge>>,
    _: &mut Vec<crate::capture::CaptureError>,
) -> anyhow::Result<()> {
    anyhow::bail!(
        "this sipdiag was built without live capture: build it with `cargo build --release --features live` (needs libpcap, Debian package libpcap-dev), or capture with `tcpdump -w FILE` and run `sipdiag watch --follow FILE`"
    )
}

/// Follows `path`, then each next file of its rotated set as the writer starts it.
pub(super) fn follow_set(
    path: &str,
    until_idle: Option<Duration>,
    judge: &Arc<Mutex<Judge>>,
    errors: &mut Vec<crate::capture::CaptureError>,
) {
    let opts = FollowOptions {
        poll: POLL,
        until_idle,
    };
    let mut path = PathBuf::from(path);
    eprintln!(
        "sipdiag: following {}; Ctrl-C ends the watch and judges the calls in progress",
        path.display()
    );
    // Started before the writer has created the file (as `tail -F` would be): wait for it.
    let since = std::time::Instant::now();
    if !path.exists() {
        eprintln!("sipdiag: waiting for {} to appear", path.display());
        while !path.exists()
            && !crate::capture::follow::stop_requested()
            && until_idle.is_none_or(|limit| since.elapsed() < limit)
        {
            std::thread::sleep(POLL);
        }
    }
    loop {
        let shown = path.to_string_lossy().into_owned();
        let follow = match Follow::open(&path, opts) {
            Ok(f) => f,
            Err(cause) => {
                errors.push(crate::capture::CaptureError::Open { path: shown, cause });
                return;
            }
        };
        let next = follow.next_file();
        // While the file is quiet, the capture's clock runs on with the wall clock from
        // the last message (a live capture's timestamps are the wall clock).
        let follow = follow.on_idle(idle_hook(judge));
        read_one(&shown, Some(follow), judge, errors);
        let next = next.lock().unwrap_or_else(|e| e.into_inner()).take();
        match next {
            Some(n) => path = n,
            None => return,
        }
    }
}

/// The sink of each file's scan: messages and the clock to the shared judge (which the
/// follow reader's idle hook moves on, too).
struct WatchSink<'j>(&'j Mutex<Judge>);

impl Sink for WatchSink<'_> {
    fn message(&mut self, msg: SipMessage) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .message(msg);
    }
    /// Any frame moves the clock: on a trunk carrying RTP but no SIP for a while, an
    /// ended call is judged all the same.
    fn clock(&mut self, now: Timestamp) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .advance(now);
    }
}
