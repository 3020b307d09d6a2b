//! The smaller commands: `media`, `messages`, `rules`, `explain` and `pattern test`.
//! Input: each command's options and captures; output: its listing on standard output
//! and the exit code.

use anyhow::Context;

use crate::calls::CallSet;
use crate::calls::focus::CallIds;
use crate::calls::legs::{infer_roles, link_legs};
use crate::cli::{FocusArgs, Format, MediaArgs, ReadArgs, SiteArgs};
use crate::media::MediaSettings;
use crate::report::listing;
use crate::report::media_spool::MediaSpool;
use crate::rules::{self, RuleInfo};
use crate::sip::SipMessage;

use super::{collect, finish, flow, scan_all, site_settings, write_out};

pub(super) fn media(args: &MediaArgs) -> anyhow::Result<u8> {
    let (_, settings) = site_settings(&SiteArgs::default(), &args.ports)?;
    let focus = flow::focus(&args.focus)?;
    // The calls are not printed: the calls and media retire as they end and their rows
    // are written out, with a focus those of the calls it selects (found first as
    // `analyze` finds them, as a stream); a focus that cannot be found so (standard input
    // among several files, a file that cannot be read): the whole call set and media
    // report. Several captures are read merged by time, as `analyze` reads them.
    let only = super::watch::focused_calls(&Default::default(), &args.focus, &args.captures)?;
    let focused = only.map(|calls| MediaFocus {
        calls,
        ips: focus.ips.clone(),
    });
    if focus.is_empty() || focused.is_some() {
        match media_retiring(args, settings.clone(), focused) {
            Ok(code) => return Ok(code),
            // The spool could not be written: read again whole, when the input can be.
            Err(e)
                if !args.captures.iter().any(|p| crate::capture::read_once(p))
                    && e.is::<SpoolError>() => {}
            Err(e) => return Err(e),
        }
    }
    let (col, reports, errors, index) = collect(&args.captures, settings);
    let (media, set) = (col.media, Some(col.set));
    if reports.is_empty() {
        return finish(errors);
    }
    let mut report = media.finish();
    if let Some(col) = set.as_ref().filter(|_| !focus.is_empty()) {
        // The RTP of the selected calls (and, with --ip, any stream of those addresses).
        let roles = infer_roles(&col.calls, &[], &[]);
        let legs = link_legs(&col.calls, &roles);
        let keep = focus.select(&col.calls, &legs);
        flow::check_selection(&focus, &keep)?;
        let ids: foldhash::HashSet<&str> = col
            .calls
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c.call_id.as_str())
            .collect();
        let by_ip = |a: &std::net::SocketAddr| focus.ips.contains(&a.ip());
        report.rtp.retain(|s| {
            s.call_id.as_deref().is_some_and(|id| ids.contains(id))
                || by_ip(&s.src)
                || by_ip(&s.dst)
        });
        report.announced.retain(|a| ids.contains(&*a.call_id));
        if !focus.ips.is_empty() {
            report.stun.retain(|t| by_ip(&t.src) || by_ip(&t.dst));
        }
        // Positions changed: an index built on the whole report no longer applies.
        report.index = std::sync::OnceLock::new();
    }
    match args.format {
        Format::Json => {
            crate::report::media::write_media_json(&reports, &report, std::io::stdout().lock())
                .context("writing the report")?
        }
        Format::Table => {
            let width = crate::report::terminal_width();
            let text = crate::report::media::media_table(&report, width)
                + &crate::report::wrap_lines(&listing::captures_footer(&reports), width);
            write_out(&text).context("writing the report")?;
            super::calls::numbering(index.as_ref(), &mut std::io::stdout().lock())?;
        }
    }
    // As in `analyze`: the process ends now, freeing call by call would cost more.
    std::mem::forget(set);
    std::mem::forget(report);
    finish(errors)
}

/// A spool file could not be written (the system's temporary directory).
#[derive(Debug)]
struct SpoolError(std::io::Error);

impl std::fmt::Display for SpoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "writing a spool file in {}: {}",
            std::env::temp_dir().display(),
            self.0
        )
    }
}

impl std::error::Error for SpoolError {}

/// What `media` with a focus shows: the RTP and announcements of the calls it selects
/// (by key), and with `--ip` the streams and STUN of those addresses.
struct MediaFocus {
    calls: CallIds,
    ips: Vec<std::net::IpAddr>,
}

impl MediaFocus {
    fn by_ip(&self, a: &std::net::SocketAddr) -> bool {
        self.ips.contains(&a.ip())
    }

    /// The rows shown, as `media` keeps them of the whole report.
    fn rows(&self, rows: &mut crate::media::Rows) {
        rows.rtp.retain(|s| {
            s.call_id
                .as_deref()
                .is_some_and(|id| self.calls.contains(id))
                || self.by_ip(&s.src)
                || self.by_ip(&s.dst)
        });
        (rows.announced).retain(|(_, a)| self.calls.contains(&a.call_id));
    }
}

/// `media` of one capture: calls retire as they end, and so do flows, streams and
/// announcements ([`crate::media::MediaTracker::retiring`]), their rows written out as
/// they come ([`MediaSpool`]), with a focus those it shows.
fn media_retiring(
    args: &MediaArgs,
    settings: MediaSettings,
    focus: Option<MediaFocus>,
) -> anyhow::Result<u8> {
    let spool = match args.format {
        Format::Json => MediaSpool::json().map_err(SpoolError)?,
        Format::Table => MediaSpool::table(crate::report::terminal_width()),
    };
    let mut calls = RetiredCalls::default();
    calls.set.name_let_go();
    calls.set.name_ended();
    let mut tracker = crate::media::MediaTracker::new(settings);
    tracker.retiring();
    // The rows are written on a thread of their own: the scan's second thread, which
    // follows the calls and the media, has enough to do.
    let (send, rows) = std::sync::mpsc::sync_channel::<crate::media::Rows>(ROWS_IN_FLIGHT);
    let writer = std::thread::Builder::new()
        .name("sipdiag-rows".into())
        .spawn(move || {
            let mut spool = spool;
            for r in rows {
                spool.push(r)?;
            }
            Ok::<_, std::io::Error>(spool)
        })
        .context("starting the row writer")?;
    let mut media = MediaRows {
        tracker,
        rows: Some(send),
        focus,
    };
    let (mut reports, errors, index) =
        super::merged::scan_captures(&args.captures, &mut calls, Some(&mut media));
    calls.set.finish().for_each(drop);
    let what = crate::calls::LetGo::DROPPED;
    let own = |n: u64| super::merged::own_number(index.as_ref(), n);
    (calls.set.let_go).report(&mut reports, &args.captures, what, &own);
    (calls.set.message_cap).report(&mut reports, &args.captures, &own);
    drop(media.rows.take());
    let spool = match writer.join() {
        Ok(Ok(spool)) => spool,
        Ok(Err(e)) => return Err(SpoolError(e).into()),
        Err(panic) => std::panic::resume_unwind(panic),
    };
    if reports.is_empty() {
        return finish(errors);
    }
    let mut rest = media.tracker.finish_rows();
    let mut report = media.tracker.finish();
    if let Some(f) = &media.focus {
        f.rows(&mut rest);
        if !f.ips.is_empty() {
            report.stun.retain(|t| f.by_ip(&t.src) || f.by_ip(&t.dst));
        }
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    spool
        .finish(&reports, report, rest, &mut out)
        .context("writing the report")?;
    if args.format == Format::Table {
        let width = crate::report::terminal_width();
        let footer = crate::report::wrap_lines(&listing::captures_footer(&reports), width);
        std::io::Write::write_all(&mut out, footer.as_bytes())
            .and_then(|()| std::io::Write::flush(&mut out))
            .context("writing the report")?;
        super::calls::numbering(index.as_ref(), &mut out)?;
    }
    finish(errors)
}

/// Batches of rows on their way to the writer thread of [`media_retiring`].
const ROWS_IN_FLIGHT: usize = 4;

/// The media tracker of [`media_retiring`], its finished rows sent to the writer.
struct MediaRows {
    tracker: crate::media::MediaTracker,
    /// `None` once the writer has stopped (it failed: its error is reported).
    rows: Option<std::sync::mpsc::SyncSender<crate::media::Rows>>,
    focus: Option<MediaFocus>,
}

impl MediaRows {
    fn write(&mut self) {
        if self.tracker.has_rows() {
            let mut rows = self.tracker.take_rows();
            if let Some(f) = &self.focus {
                f.rows(&mut rows);
            }
            if let Some(send) = &self.rows
                && send.send(rows).is_err()
            {
                self.rows = None;
            }
        }
    }
}

impl super::PacketSink for MediaRows {
    fn capture_start(&mut self, index: usize) {
        self.tracker.capture_start(index);
    }
    fn message(&mut self, m: &SipMessage) {
        super::PacketSink::message(&mut self.tracker, m);
        // Signalling moves the tracker's clock too: rows may be released.
        self.write();
    }
    fn datagram(&mut self, d: &crate::net::Datagram<'_>) {
        self.tracker.datagram(d);
        self.write();
    }
    fn read_datagram(&mut self, d: &crate::net::Datagram<'_>, p: crate::media::UdpPayload) {
        self.tracker.read_datagram(d, p);
        self.write();
    }
    fn icmp(&mut self, e: &crate::net::IcmpError) {
        self.tracker.icmp(e);
    }
    fn stream(&mut self, e: &crate::net::StreamEvent<'_>) {
        self.tracker.stream(e);
    }
    fn call_gone(&mut self, call_id: &str) {
        self.tracker.forget_call(call_id);
    }
    fn call_ended(&mut self, call_id: &str) {
        self.tracker.call_ended(call_id);
    }
}

/// `media`'s calls when none is printed: only what tells when each ends is kept
/// ([`CallEnd`](crate::calls::ending::CallEnd)), and each retires as it ends; one let go
/// at `--max-calls` is named to the media tracker, which forgets its SDP announcements as
/// in `analyze`.
#[derive(Default)]
struct RetiredCalls {
    set: crate::calls::retire::Retiring<crate::calls::ending::CallEnd>,
}

impl super::Sink for RetiredCalls {
    fn message(&mut self, m: SipMessage) {
        self.set.add(m);
        self.set.take_retired().for_each(drop);
    }
    fn ended(&mut self, gone: &mut dyn FnMut(&str)) {
        self.set.take_ended(gone);
    }
    fn let_go(&mut self, gone: &mut dyn FnMut(&str)) {
        self.set.take_let_go(gone);
    }
}

pub(super) fn rules_list(format: Format) -> anyhow::Result<u8> {
    let infos: Vec<&RuleInfo> = rules::registry().into_iter().map(|r| r.info()).collect();
    let text = match format {
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "schema_version": listing::SCHEMA_VERSION,
                "rules": infos,
            }))? + "\n"
        }
        Format::Table => {
            let mut t = crate::report::new_table(&["Id", "Slug", "Severity", "Summary"]);
            crate::report::fit(&mut t, crate::report::terminal_width());
            for i in &infos {
                t.add_row(vec![
                    i.id.to_string(),
                    i.slug.to_string(),
                    i.severity.to_string(),
                    i.summary.to_string(),
                ]);
            }
            format!("{t}\n")
        }
    };
    write_out(&text)?;
    Ok(0)
}

pub(super) fn explain(key: &str) -> anyhow::Result<u8> {
    let rule = rules::lookup(key)
        .with_context(|| format!("unknown rule {key:?} (see `sipdiag rules`)"))?;
    write_out(&rules::explain(rule.info()))?;
    Ok(0)
}

/// The Call-IDs a focus selects (with the legs linked to them), from a first scan of the
/// captures, as a stream (several merged by time, as `analyze` reads them); `None`
/// without a focus. Standard input is kept for the second reading.
fn focused_call_ids(
    captures: &[String],
    focus_args: &FocusArgs,
) -> anyhow::Result<Option<CallIds>> {
    let focus = flow::focus(focus_args)?;
    if focus.is_empty() {
        return Ok(None);
    }
    // The calls first, then their messages.
    super::read_again(captures, "a focus")?;
    // The calls found as `analyze` finds them, as a stream.
    if let Some(ids) = super::watch::focused_calls(&Default::default(), focus_args, captures)? {
        return Ok(Some(ids));
    }
    let mut set = CallSet::default();
    let (mut reports, errors) = scan_all(captures, &mut set);
    set.finish(&mut reports, captures);
    if let Some(e) = errors.into_iter().next() {
        return Err(e.into());
    }
    let roles = infer_roles(&set.calls, &[], &[]);
    let legs = link_legs(&set.calls, &roles);
    let keep = focus.select(&set.calls, &legs);
    flow::check_selection(&focus, &keep)?;
    Ok(Some(
        set.calls
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(c, _)| c.call_id)
            .collect(),
    ))
}

pub(super) fn messages(args: &ReadArgs) -> anyhow::Result<u8> {
    let only = focused_call_ids(&args.captures, &args.focus)?;
    let wanted = |m: &SipMessage| {
        only.as_ref()
            .is_none_or(|ids| m.call_id().is_some_and(|id| ids.contains(id)))
    };
    if args.format == Format::Json {
        // Streamed: rows are written as they are found.
        // Written from the sink thread: `Stdout` (not its lock, which cannot move).
        let mut json = listing::MessagesJson::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout(),
        ));
        let several = args.captures.len() > 1;
        let (reports, errors) = scan_all(
            &args.captures,
            &mut Listing {
                out: &mut json,
                wanted: &wanted,
                paths: several.then_some(&args.captures[..]),
            },
        );
        if reports.is_empty() && json.error.is_none() {
            return finish(errors);
        }
        json.finish(&reports).context("writing the report")?;
        return finish(errors);
    }
    let time = match args.time {
        crate::cli::TimeArg::Absolute => listing::TimeFormat::Absolute,
        crate::cli::TimeArg::Relative => listing::TimeFormat::Relative,
        crate::cli::TimeArg::Delta => listing::TimeFormat::Delta,
    };
    let mut table = listing::MessagesTable::new(
        std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
        time,
    );
    let several = args.captures.len() > 1;
    let (reports, errors) = scan_all(
        &args.captures,
        &mut Listing {
            out: &mut table,
            wanted: &wanted,
            paths: several.then_some(&args.captures[..]),
        },
    );
    if reports.is_empty() && table.error.is_none() {
        return finish(errors);
    }
    table.finish(&reports).context("writing the report")?;
    finish(errors)
}

/// Where `messages` writes its rows.
trait ListingOut {
    fn message(&mut self, m: SipMessage);
    /// The messages that follow are in the file named `path`.
    fn capture(&mut self, path: &str);
}

impl<W: std::io::Write> ListingOut for listing::MessagesJson<W> {
    fn message(&mut self, m: SipMessage) {
        listing::MessagesJson::message(self, &m);
    }
    fn capture(&mut self, path: &str) {
        listing::MessagesJson::capture(self, path.to_string());
    }
}

impl<W: std::io::Write> ListingOut for listing::MessagesTable<W> {
    fn message(&mut self, m: SipMessage) {
        listing::MessagesTable::message(self, m);
    }
    fn capture(&mut self, path: &str) {
        listing::MessagesTable::capture(self, path);
    }
}

/// The sink of `messages`: the messages `wanted` keeps to `out`, and with several files
/// (`paths`) the name of each as it starts (as the capture reports name it).
struct Listing<'a, O, W> {
    out: &'a mut O,
    wanted: &'a W,
    paths: Option<&'a [String]>,
}

impl<O: ListingOut + Send, W: Fn(&SipMessage) -> bool + Sync> super::Sink for Listing<'_, O, W> {
    fn capture_start(&mut self, index: usize) {
        if let Some(p) = self.paths.and_then(|p| p.get(index)) {
            self.out.capture(&crate::redact::shown_path(p));
        }
    }
    fn message(&mut self, m: SipMessage) {
        if (self.wanted)(&m) {
            self.out.message(m);
        }
    }
}
