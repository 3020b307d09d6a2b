//! `sipdiag watch`: each call judged as soon as it has ended, while the capture is read —
//! or still being written (`--follow`), or captured from an interface (`-i`, cargo
//! feature `live`). Input: the command's options and capture(s);
//! output: a block of text (or a JSON line) per judged call that failed or has findings,
//! a closing summary, and the exit code.
//!
//! Memory follows the calls in progress, not the calls seen:
//! - calls retire as for `calls` ([`Retiring`]: ended and quiet for 32 s of capture time,
//!   8 s once settled, silent for 5 minutes while not answered, or for a day while they
//!   last — a registration, an established dialog whose BYE was never seen);
//! - a retired call that may be linked with another (its Follow-Me leg, which ends within
//!   moments of it) waits [`HOLD_SECS`] more for those to retire as well (the waiting
//!   calls are looked at every `HOLD_SECS`, so 10–20 s); the calls linked together are
//!   judged as one unit and freed. A call that cannot be linked ([`MayLink`]: none of its
//!   INVITEs involves an address that XCC could be) is judged within the capture second
//!   it retires in. A capture whose clock stands still never ends either wait: the calls
//!   that cannot be linked are judged once [`ALONE_AT_ONCE`] wait, and those waiting for
//!   their legs once `--max-calls` do (reported: CAP006 `call-wait-limit`);
//! - the rules of [`Scope::Call`](rules::Scope::Call) run on that unit alone, with the
//!   same code as `analyze` ([`units`]), and so do the media rules of one call, on the
//!   unit's media ([`media::WatchMedia`]).
//!   What `analyze` learns from the whole capture is kept as small aggregates instead: the
//!   XCC addresses earlier calls have shown ([`KnownXcc`]), the numbers that tell the
//!   site's country code and internal length ([`SiteTally`]), the trunks on which
//!   forwarded calls were answered ([`rules::Seen`]), counts per rule.
//!
//! So a call is judged with what the capture had shown by then: without `--xcc`, a
//! Follow-Me failure that comes before any message identifying XCC is not recognised as
//! one (the report of `analyze`, which sees every call first, would). The rules that
//! compare calls (FM001, FM005) run once at the end, with the capture rules (CAP…), on
//! digests that each judged unit adds to ([`rules::Seen`]). A unit's media is judged with
//! it (SP003, SP005, SP006: [`media`]); the softphone's ICE rules run at the end on the
//! capture's STUN. A softphone's signalling (TCP on the softphone port) is noted, so that
//! a capture of it is not taken for one without signalling (CAP002).
//!
//! `analyze` of one file runs this judge too, and keeps what each unit shows for its
//! report instead of printing it ([`stream`]); it checks at the end that the whole capture
//! shows what each unit was judged with ([`speculate`]), and otherwise reads the file a
//! second time, judging with the roles, site and UDP count the first reading found.
//!
//! With `--follow` and `-i`, capture time also moves on with the wall clock while the input
//! is quiet (a live capture's timestamps are the wall clock), so a call that has ended is
//! judged even when no other packet follows it; otherwise every frame moves the clock,
//! SIP or not.
//!
//! A whole file is read on two threads, as the other commands' scans are
//! ([`super::pipeline`]): reading, decoding and parsing SIP on one, this judge (the calls,
//! the media, the units) on the other, fed in order; `analyze` runs each unit's rules on
//! a third ([`units`]). A file that grows and an interface are read and judged on one
//! thread, so that each message is judged as soon as it is read.

mod command;
mod deferred;
mod focused;
mod input;
mod kept;
mod known_ipo;
mod ladders;
mod may_link;
mod media;
mod setup;
mod speculate;
mod stream;
mod units;

pub(super) use command::watch;
pub(super) use ladders::{Cited, FailedGroups, LadderPass};
use setup::JudgeSetup;
#[cfg(test)]
pub(super) use stream::READINGS;
pub(super) use stream::{FileOptions, analyze_files, focused_calls, streamed_paths};

use std::io::Write;

use crate::calls::legs::{Endpoint, KnownXcc, LegKind, infer_roles_knowing, link_legs};
use crate::calls::retire::Retiring;
use crate::calls::{Call, USER_NUMBER_SOURCES, user_numbers};
use crate::capture::Timestamp;
use crate::cli::WatchFormat;
use crate::numbers::{Site, SiteTally};
use crate::report::analysis::{Analysis, TextOptions};
use crate::report::watch::{SoftphoneSeen, WatchEnd, call_block, call_json};
use crate::rules::{self, Severity};
use crate::sip::SipMessage;

use may_link::MayLink;

/// Seconds of capture time a retired call waits for the calls linked with it to retire.
/// Both legs of a Follow-Me call end within moments of each other (XCC ends one because
/// the other ended); each retires 8 or 32 s after its own last message.
pub const HOLD_SECS: i64 = 10;

/// Units of calls judged together at most, their media ended together.
const UNITS_AT_ONCE: usize = 256;

/// Calls that cannot be linked judged together at most: they wait for the end of the
/// capture second they retired in, or for this many to wait.
const ALONE_AT_ONCE: usize = 4096;

/// Everything a watch keeps between messages.
struct Judge {
    retiring: Retiring,
    /// The time of the last message: a quiet live capture's clock runs on from it.
    last_message: Option<Timestamp>,
    /// The time of the capture's first call (its earliest message so far: every message
    /// is some call's, those without a Call-ID too).
    first_call: Option<Timestamp>,
    /// Retired calls waiting for their linked legs.
    pending: Vec<Held>,
    /// The calls judged before the wait for their legs ended, `--max-calls` of them
    /// waiting (a capture whose clock stands still never ends it): reported at the end.
    waited_short: crate::calls::Past,
    /// Retired calls that cannot be linked (with their places), judged together once the
    /// capture second they retired in (the second) has passed.
    alone: (Vec<(u64, Call)>, i64),
    may_link: MayLink,
    /// The numbers of the calls retired so far, for the site's inferred country code and
    /// internal length.
    tally: SiteTally,
    /// The capture second of the last look at `pending` (one every [`HOLD_SECS`]).
    looked: i64,
    /// Frames of the files before the current one (a rotated set is numbered through).
    offset: u64,
    /// The file being read, as findings name it.
    file_path: String,
    /// The files read so far and where each starts in the frame numbers (numbered
    /// through them): with more than one, findings cite frames by file.
    files: crate::capture::merge::FrameIndex,
    known: KnownXcc,
    /// The IP Office addresses the calls judged so far identify, and (`analyze`'s second
    /// reading) those of the whole capture, which every unit is judged with.
    ipo: known_ipo::IpoTally,
    ipo_whole: Option<known_ipo::IpoKnown>,
    /// With a configuration and the IP Office's addresses known, its routing replayed as
    /// the INVITEs come (the sessions each call holds, the decisions of calls not judged).
    replaying: Option<crate::ipoffice::replay::Replaying>,
    /// What the calls judged so far showed that rules compare with.
    seen: rules::Seen,
    xcc: Vec<Endpoint>,
    pbx: Vec<Endpoint>,
    site: Site,
    /// The ports of the media settings: the softphone signalling port (`--softphone-port`,
    /// the site file, 2230) tells softphone signalling.
    ports: crate::media::MediaSettings,
    /// The media, judged with each unit of calls.
    media: media::WatchMedia,
    /// What a unit's rules read besides the unit: `--select`, `--ignore`, `--severity`
    /// (which the capture rules and the media of no call follow too), `--ipo`,
    /// `--ipo-config`, the last file's report once the input has ended.
    unit_rules: units::UnitRules,
    format: WatchFormat,
    text: TextOptions,
    fail_on: Option<Severity>,
    /// A finding at or above `--fail-on` was printed.
    failing: bool,
    end: WatchEnd,
    /// `analyze` of one file ([`stream`]): what its reading has found and judged with,
    /// and where it puts what the units show, instead of printing them.
    stream: Option<Box<stream::Pass>>,
}

/// A retired call waiting to be judged: its place among the capture's calls (the order
/// of their first messages), the capture second it retired in, and whether its numbers
/// count for the site yet.
struct Held {
    call: Call,
    pos: u64,
    at: i64,
    counted: bool,
}

impl Judge {
    fn message(&mut self, mut m: SipMessage) {
        if self.offset > 0 {
            m.renumber(self.offset);
        }
        self.last_message = Some(m.time);
        if self.first_call.is_none_or(|t| m.time < t) {
            self.first_call = Some(m.time);
        }
        self.may_link.note(&m);
        self.media.message(&m);
        match self.replaying.as_mut() {
            Some(r) => r.add(&mut self.retiring, m),
            None => self.retiring.add(m),
        }
        self.take_retired();
    }

    /// TCP data on the softphone port, in `frame` of the file being read: the first is
    /// recorded for the closing summary (the watch does not judge softphone media).
    fn softphone_seen(&mut self, flow: &crate::net::Flow, frame: u64) {
        if self.end.softphone_signalling.is_none() {
            let (client, server) = if flow.dst.port() == self.ports.softphone_port {
                (flow.src, flow.dst)
            } else {
                (flow.dst, flow.src)
            };
            self.end.softphone_signalling = Some(SoftphoneSeen {
                client,
                server,
                capture: self.file_path.clone(),
                frame,
            });
        }
    }

    /// The calls let go at `--max-calls` before they ended are dropped, not judged: what
    /// `analyze` does when it holds every call (`calls` and `watch` judge them as they
    /// stand). Their media ends with them.
    pub(super) fn drop_let_go(&mut self) {
        self.retiring.drop_let_go();
    }

    /// The capture's clock moved on to `now` without a message.
    fn advance(&mut self, now: Timestamp) {
        self.retiring.advance(now);
        self.take_retired();
    }

    fn take_retired(&mut self) {
        let Some(now) = self.retiring.now() else {
            return;
        };
        if self.alone.1 < now.secs {
            self.judge_alone();
        }
        for call in self.retiring.take_dropped() {
            self.media.drop_call(&call, now.secs);
            if let Some(r) = self.replaying.as_mut() {
                r.forget(&call);
            }
        }
        for (pos, call) in self.retiring.take_retired() {
            if let Some(r) = self.replaying.as_mut() {
                r.retired(&call);
            }
            if self.may_link.may_link(&call, &self.xcc, &self.known) {
                self.pending.push(Held {
                    call,
                    pos,
                    at: now.secs,
                    counted: false,
                });
            } else {
                if self.alone.0.is_empty() {
                    self.alone.1 = now.secs;
                }
                self.alone.0.push((pos, call));
            }
        }
        // A first reading of `analyze` that no longer judges (the file is read again):
        // what it learns needs the calls and the UDP count, not the media.
        if !self.media.counts_only()
            && let Some(spec) = self.stream.as_deref_mut().and_then(|s| s.speculation())
            && !spec.judging()
        {
            self.media.count_only();
        }
        let waiting = self.pending.len() + self.alone.0.len();
        self.end.peak_waiting = self.end.peak_waiting.max(waiting);
        // A capture whose clock stands still (every packet stamped alike) never ends the
        // second the calls retired in, nor the wait for their legs: the calls that cannot
        // be linked are judged in batches all the same, and those waiting for their legs
        // once `--max-calls` wait.
        if self.alone.0.len() >= ALONE_AT_ONCE {
            self.judge_alone();
        }
        if self.pending.len() >= self.retiring.let_go.cap {
            let held = std::mem::take(&mut self.pending);
            // Counted, the first by the earliest call among them.
            if let Some(first) = held.iter().map(|h| h.call.first_frame).min() {
                self.waited_short.record_many(held.len() as u64, first, 0);
            }
            self.judge_batch(held, None);
        }
        // Every HOLD_SECS: each call is then looked at about twice (the calls waiting are
        // linked and counted together), however many end each second.
        if now.secs >= self.looked.saturating_add(HOLD_SECS) {
            self.looked = now.secs;
            self.judge_ready(Some(now.secs));
            self.sweep_media(now.secs);
        } else if self.media.wants_sweep() {
            self.sweep_media(now.secs);
        }
    }

    /// Judges the calls that cannot be linked, retired so far.
    fn judge_alone(&mut self) {
        if !self.alone.0.is_empty() {
            let at = self.alone.1;
            let held = std::mem::take(&mut self.alone.0)
                .into_iter()
                .map(|(pos, call)| Held {
                    call,
                    pos,
                    at,
                    counted: false,
                })
                .collect();
            self.judge_batch(held, None);
        }
    }

    /// Judges the pending calls whose unit (the calls linked with them) has waited long
    /// enough; all of them, and those that cannot be linked, when `now` is `None` (the
    /// input has ended).
    fn judge_ready(&mut self, now: Option<i64>) {
        if now.is_none() {
            self.judge_alone();
        }
        // Nothing has waited long enough: nothing to look at (the usual second).
        let oldest = self.pending.iter().map(|h| h.at).min();
        let Some(oldest) = oldest else {
            return;
        };
        if now.is_some_and(|now| now - oldest < HOLD_SECS) {
            return;
        }
        let held = std::mem::take(&mut self.pending);
        self.judge_batch(held, now);
    }

    /// The roles a unit or batch of calls is judged with: those of the whole capture
    /// when known ([`stream`]), else what these calls and the earlier ones show.
    fn roles_of(&mut self, calls: &[Call]) -> crate::calls::legs::Roles {
        if let Some(r) = self.stream.as_ref().and_then(|s| s.roles()) {
            return r.clone();
        }
        let roles = infer_roles_knowing(calls, &self.xcc, &self.pbx, &self.known);
        self.known.learn(&roles);
        roles
    }

    /// The site the rules outside a unit read: the whole capture's when known
    /// ([`stream`]), else the one given (options, site file).
    fn given_site(&self) -> &Site {
        (self.stream.as_ref().and_then(|s| s.site())).unwrap_or(&self.site)
    }

    /// Judges the units of `held` (retired calls) that have waited long enough by `now`
    /// (`None`: all); the others wait on.
    fn judge_batch(&mut self, held: Vec<Held>, now: Option<i64>) {
        let (calls, meta): (Vec<Call>, Vec<(u64, i64, bool)>) = held
            .into_iter()
            .map(|h| (h.call, (h.pos, h.at, h.counted)))
            .unzip();
        let roles = self.roles_of(&calls);
        let legs = link_legs(&calls, &roles);
        // Each call's numbers count for the site once, as soon as it has retired.
        let second = |c: &Call| legs.kind_of(&c.call_id) == LegKind::Second;
        for (c, _) in calls.iter().zip(&meta).filter(|(_, m)| !m.2) {
            for n in user_numbers(std::slice::from_ref(c), second) {
                self.tally.add(n);
            }
        }
        {
            let (media, ipo) = Default::default();
            let cx = rules::Context {
                captures: &[],
                calls: &calls,
                roles: &roles,
                legs: &legs,
                site: &self.site,
                media: &media,
                ipo: &ipo,
                seen: &rules::Seen::default(),
            };
            // `analyze` judges its units beside the reading: what the units are judged
            // with goes there, in order (and, on a first reading, is kept: [`speculate`]).
            match self.stream.as_deref_mut() {
                Some(pass) => {
                    let mut working = rules::Seen::default();
                    working.learn(&cx);
                    if let Some(spec) = pass.speculation() {
                        spec.trunks.extend(&working.working_trunks);
                    }
                    if let Some(work) = pass.work() {
                        work.send(units::Job::Working(working.working_trunks));
                    }
                }
                None => self.seen.learn(&cx),
            }
        }
        // Units: the calls linked with each other (a first leg and its second legs).
        let unit = legs.units(&calls);
        // A unit is ready when every call of it has waited.
        let mut ready = vec![true; calls.len()];
        if let Some(now) = now {
            for (i, (_, at, _)) in meta.iter().enumerate() {
                if now - at < HOLD_SECS {
                    ready[unit[i]] = false;
                }
            }
        }
        let mut units: std::collections::BTreeMap<usize, Vec<(u64, Call)>> = Default::default();
        for (i, (call, (pos, at, _))) in calls.into_iter().zip(meta).enumerate() {
            if ready[unit[i]] {
                // Most units are one call: no room reserved for four.
                (units.entry(unit[i]))
                    .or_insert_with(|| Vec::with_capacity(1))
                    .push((pos, call));
            } else {
                // Counted now: kept waiting.
                self.pending.push(Held {
                    call,
                    pos,
                    at,
                    counted: true,
                });
            }
        }
        // The first reading of `analyze`: the units' evidence of roles. They are judged
        // with what it has shown so far, until the capture contradicts that
        // ([`speculate`]: the file is then read again, and the units are no longer sent
        // to be judged, though their media ends with them as before).
        if let Some(tally) = self.stream.as_mut().and_then(|s| s.learning()) {
            for calls in units.values() {
                tally.add(&calls.iter().map(|(_, c)| c).collect::<Vec<_>>());
            }
        }
        if units.is_empty() {
            return;
        }
        let site = match self.stream.as_ref().and_then(|s| s.site()) {
            Some(site) => site.clone(),
            None => {
                let mut site = self.site.clone();
                self.tally.apply(&mut site, USER_NUMBER_SOURCES);
                site
            }
        };
        if let Some(pass) = self.stream.as_deref_mut()
            && let Some(spec) = pass.speculation()
        {
            spec.roles(&roles);
            if spec.site(&site)
                && let Some(work) = pass.work()
            {
                work.send(units::Job::Site(Box::new(site.clone())));
            }
        }
        let secs = self.retiring.now().map_or(i64::MAX, |t| t.secs);
        // A few hundred units at a time (the end of the input retires every call in
        // progress at once): their media ends together, and what no call waiting reads
        // any more leaves before the next ones.
        let mut units = units.into_values().peekable();
        while units.peek().is_some() {
            let some: Vec<Vec<(u64, Call)>> = units.by_ref().take(UNITS_AT_ONCE).collect();
            let ending: Vec<&Call> = some.iter().flatten().map(|(_, c)| c).collect();
            self.media.end_calls(&ending, secs);
            for calls in some {
                self.judge(calls, &site);
            }
            if units.peek().is_some() && self.media.wants_sweep() {
                self.sweep_media(secs);
            }
        }
    }

    /// Runs the call rules on one unit and prints what they found (`analyze`: hands the
    /// unit to its judging, [`units::Work`]).
    fn judge(&mut self, mut placed: Vec<(u64, Call)>, site: &Site) {
        placed.sort_by_key(|(pos, _)| *pos);
        let (places, calls): (Vec<u64>, Vec<Call>) = placed.into_iter().unzip();
        let replays = self.replaying.as_mut().map(|r| r.replays(&calls));
        let roles = self.roles_of(&calls);
        // Its media leaves the store in any case (what its calls named, too).
        let mut media = self.media.unit_report(&calls);
        let identified = self.ipo.add(&places, &calls);
        let ipo = self.ipo_whole.clone().unwrap_or(identified);
        if let Some(spec) = self.stream.as_deref_mut().and_then(|s| s.speculation()) {
            spec.roles(&roles);
            spec.ipo(&ipo);
            if !spec.judging() {
                return;
            }
        }
        let legs = link_legs(&calls, &roles);
        // The capture's UDP, when a first reading counted it ([`stream`]).
        if let Some(udp) = self.stream.as_ref().and_then(|s| s.udp_datagrams()) {
            media.udp_datagrams = udp;
        }
        // No UDP besides SIP so far: SP003 cannot tell yet whether the capture holds any
        // (its one finding on a capture without media): its findings wait.
        let no_udp_yet = media.udp_datagrams == 0;
        if no_udp_yet {
            media.udp_datagrams = 1;
        }
        // Several files: frames are numbered through them; the legend (text) or the cited
        // frames (JSON) name each one's file, as `analyze` does for files read merged.
        let files = self.files.several();
        let unit = units::Unit {
            places,
            calls,
            roles,
            legs,
            media,
            no_udp_yet,
            capture: files.is_none().then(|| self.file_path.clone()),
            day: self.first_call,
            ipo,
            replays,
        };
        if let Some(work) = self.stream.as_deref_mut().and_then(|s| s.work()) {
            work.send(units::Job::Unit(Box::new(unit)));
            return;
        }
        let (findings, verdicts) = units::judge_unit(
            &self.unit_rules,
            &mut self.seen,
            &unit,
            site,
            &mut self.media.deferred,
            None,
        );
        let units::Unit {
            calls,
            roles,
            legs,
            media,
            ..
        } = unit;
        self.end.calls += calls.len() as u64;
        self.end.failed += verdicts.iter().filter(|v| !v.ok).count() as u64;
        for f in &findings {
            *self.end.findings.entry(f.id).or_default() += 1;
            self.failing |= self.fail_on.is_some_and(|t| f.severity >= t);
        }
        let healthy = findings.is_empty() && verdicts.iter().all(|v| v.ok);
        if healthy && !self.text.verbose || verdicts.is_empty() && findings.is_empty() {
            return;
        }
        let began = calls.iter().map(|c| c.first_time).min();
        let counts = crate::report::verdict::counts(&calls, &legs, &media, &findings);
        let a = Analysis::new(
            site.clone(),
            roles,
            Vec::new(),
            Vec::new(),
            counts,
            verdicts,
            findings,
        );
        let text = match self.format {
            WatchFormat::Json => call_json(&a, began, files),
            WatchFormat::Table => call_block(&a, began, &self.text, files) + "\n",
        };
        print(&text);
    }
}

/// Writes and flushes at once: a reader of a pipe (a log shipper, a test) sees each call
/// as it is judged.
fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
