//! One unit of calls judged (a call, or a Follow-Me call's legs together): the rules that
//! look at one unit, run on it with its media, and its verdicts. `watch` judges each
//! unit as it is formed and prints it; a streamed `analyze` ([`super::stream`])
//! hands its units to a thread beside the reading ([`Work`]), which judges them in the
//! order they come and keeps what they show for the report, while the reading goes on.
//!
//! Input: the [`Unit`]s, with the trunks seen working and the findings of no unit, in
//! reading order. Output: each unit's findings and verdicts (`watch`), or the report
//! (`analyze`), the same as if every unit were judged on the reading's thread: the thread
//! owns everything a unit's judging reads and adds to (the digests of the calls judged,
//! the report), and everything reaches it through one channel, in order.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::calls::Call;
use crate::calls::legs::{Legs, Roles};
use crate::media::MediaReport;
use crate::numbers::Site;
use crate::report::verdict::Verdict;
use crate::rules::{self, Finding, Scope};
use crate::sip::CaptureReport;

use super::super::analyze::RuleChoice;
use super::super::ipo_route;
use super::deferred::Deferred;
use super::kept::{Kept, report_order};
use super::media;

/// What a unit's rules read besides the unit: the command's choice of rules, the IP
/// Office options, and (once the input has ended) the last file's report (files read merged: each file's).
#[derive(Clone)]
pub(super) struct UnitRules {
    pub(super) choice: RuleChoice,
    pub(super) ipo: Vec<std::net::IpAddr>,
    pub(super) ipo_config: Option<crate::ipoffice::Config>,
    /// Once the input has ended: the last file's report (files read merged: each file's),
    /// for the calls judged then (a call cut off by the end of a damaged file is judged
    /// with that damage).
    pub(super) last_reports: Vec<CaptureReport>,
}

/// A unit of calls to judge, with what the reading knows of it.
pub(super) struct Unit {
    /// Each call's place among the capture's calls (the order of their first messages).
    pub(super) places: Vec<u64>,
    pub(super) calls: Vec<Call>,
    pub(super) roles: Roles,
    pub(super) legs: Legs,
    pub(super) media: MediaReport,
    /// No UDP besides SIP so far: SP003 cannot tell yet whether the capture holds any (its
    /// one finding on a capture without media), so its findings wait.
    pub(super) no_udp_yet: bool,
    /// The file the findings name (`None`: several files, whose frames are cited by file).
    pub(super) capture: Option<String>,
    /// The time of the capture's first call so far (a focus places wall-clock times on
    /// its day).
    pub(super) day: Option<crate::capture::Timestamp>,
    /// The IP Office addresses the capture's calls identified, when none is given.
    pub(super) ipo: super::known_ipo::IpoKnown,
    /// With a configuration and the IP Office's addresses known: the replay of the
    /// unit's INVITEs to it, routed as they came ([`crate::ipoffice::replay::Replaying`]).
    pub(super) replays: Option<Vec<crate::ipoffice::replay::CallReplay>>,
}

/// Judges `unit` with `site`, the digests of the calls judged before it (`seen`, which it
/// adds to) and `rules`. Its SP003 findings go to `waiting` while no UDP has come; with
/// `kept` (`analyze`), what it shows goes to the report and nothing is returned, else
/// (`watch`) its findings and verdicts.
pub(super) fn judge_unit(
    rules: &UnitRules,
    seen: &mut rules::Seen,
    unit: &Unit,
    site: &Site,
    waiting: &mut Deferred,
    kept: Option<&mut Kept>,
) -> (Vec<Finding>, Vec<Verdict>) {
    let Unit {
        places,
        calls,
        roles,
        legs,
        media,
        no_udp_yet,
        capture,
        day,
        ipo,
        replays,
    } = unit;
    // Neither given nor configured: as the capture's calls identify it (a call IP Office
    // ignored names it nowhere).
    let ipo = match (&rules.ipo[..], &rules.ipo_config, replays) {
        (given, cfg, Some(replays)) => {
            ipo_route::ipo_context_replayed(given, cfg.as_ref(), replays.clone())
        }
        ([], None, None) => ipo_route::ipo_context_known(calls, ipo),
        (given, cfg, None) => ipo_route::ipo_context(calls, given, cfg.as_ref()),
    };
    let cx = rules::Context {
        captures: &rules.last_reports,
        calls,
        roles,
        legs,
        site,
        media,
        ipo: &ipo,
        seen,
    };
    // Past the SP003 findings that wait kept whole, the calls they would be on are only
    // counted: not written (a capture filtered to signalling has one per answered call).
    let sp003 = rules::Rule::info(&rules::sp003_media_missing::RULE);
    let counted = *no_udp_yet && waiting.is_full() && rules.choice.enabled(sp003);
    let mut findings = rules::run_selected(&cx, &|r| {
        (r.scope() == Scope::Call || media::UNIT_RULES.contains(&r.info().id))
            && rules.choice.enabled(r.info())
            && !(counted && r.info().id == sp003.id)
    });
    if counted {
        for (e, _) in rules::sp003_media_missing::silent_sip_calls(media, calls) {
            let mut frames = e.setup_frames();
            rules::cited_frames(&mut frames);
            let duration = rules::sp003_media_missing::duration_s(&e);
            waiting.count(&e.call.call_id, &frames, duration);
        }
    }
    // SP005 and SP006 judge the streams of this unit's calls here (the others at their
    // addresses are their own calls'; softphone streams of no call, the end's).
    let ids: Vec<&str> = calls.iter().map(|c| c.call_id.as_str()).collect();
    findings.retain(|f| {
        !matches!(f.id, "SP005" | "SP006")
            || f.call_id.as_deref().is_some_and(|id| ids.contains(&id))
    });
    if *no_udp_yet {
        let (wait, now): (Vec<_>, Vec<_>) = findings.into_iter().partition(|f| f.id == "SP003");
        for f in wait {
            waiting.push(f);
        }
        findings = now;
    }
    // What the rules that compare calls read at the end (FM001, FM005).
    let judged = rules::Seen::of(&cx);
    let reads_trunks = kept.is_some() && rules::reads_working_trunks(&cx);
    // The numbers FM002's suggestion is proven on, over the whole capture.
    let numbers = kept
        .is_some()
        .then(|| rules::diversions::Diversions::of(&cx));
    seen.add(&judged);
    seen.sip_hosts.judged(calls);
    rules.choice.apply_severity(&mut findings);
    for f in &mut findings {
        f.capture.clone_from(capture);
    }
    let Some(kept) = kept else {
        let verdicts = crate::report::verdict::verdicts_of(calls, legs, Some(media), &findings);
        waiting.judged(&verdicts);
        return (findings, verdicts);
    };
    if let Some(n) = numbers {
        kept.report.diversions.add(&n);
    }
    if let Some(t) = &mut kept.trunks {
        t.judged(reads_trunks);
    }
    // The INVITEs to and from XCC, which name the PBXs.
    kept.tally.add_xcc_invites(calls, roles);
    report_order(&mut findings);
    let verdicts = crate::report::verdict::verdicts_of(calls, legs, Some(media), &findings);
    waiting.judged(&verdicts);
    // With a focus, a unit it does not select counts for the capture (above) and is not
    // shown.
    if kept.report.shows(calls, legs, *day) {
        kept.report
            .unit(places, calls, legs, media, findings, verdicts);
    } else {
        kept.report.unshown(findings);
    }
    (Vec::new(), Vec::new())
}

/// What the judging of `analyze`'s units reads and adds to, owned by whichever thread
/// judges them.
pub(super) struct Judging {
    pub(super) rules: UnitRules,
    /// The digests of the calls judged, and the trunks seen working.
    pub(super) seen: rules::Seen,
    /// The whole capture's site.
    pub(super) site: Site,
    /// SP003 findings that wait for UDP (none comes on this reading: it knows the
    /// capture's UDP count), bounded as the judge's own.
    pub(super) waiting: Deferred,
    pub(super) kept: Kept,
}

/// What reaches the judging of `analyze`'s units, in reading order.
pub(super) enum Job {
    /// The trunks a batch of calls shows working, before its units.
    Working(BTreeSet<SocketAddr>),
    Unit(Box<Unit>),
    /// Findings of no unit (media of no call).
    Loose(Vec<Finding>),
    /// The site the units after it are judged with (a reading that judges with what the
    /// capture has shown so far: [`super::speculate`]).
    Site(Box<Site>),
    /// The input has ended: the last file's report (files read merged: each file's).
    LastReports(Vec<CaptureReport>),
}

impl Judging {
    fn run(&mut self, job: Job) {
        match job {
            Job::Working(trunks) => {
                if let Some(t) = &mut self.kept.trunks {
                    t.arrive(&trunks, &self.seen.working_trunks);
                }
                self.seen.working_trunks.extend(trunks);
            }
            // Judged with trunks the capture contradicts: the reading is done again.
            Job::Unit(_) if self.kept.trunks.as_ref().is_some_and(|t| t.stale) => {}
            Job::Unit(unit) => {
                judge_unit(
                    &self.rules,
                    &mut self.seen,
                    &unit,
                    &self.site,
                    &mut self.waiting,
                    Some(&mut self.kept),
                );
            }
            Job::Loose(findings) => self.kept.report.loose(findings),
            Job::LastReports(r) => self.rules.last_reports = r,
            Job::Site(site) => self.site = *site,
        }
    }
}

/// Jobs sent at once: a few dozen units, so that the two threads do not wake each other
/// for every call.
const JOBS_AT_ONCE: usize = 32;
/// Sends of [`JOBS_AT_ONCE`] jobs the channel holds before the reading waits: the units
/// in flight are a few hundred calls at most. The units come in bursts (the calls that
/// have waited [`super::HOLD_SECS`] are linked and sent together, thousands at a busy
/// site): room for a few hundred lets the judging go on with a burst while the reading
/// goes on with the capture, instead of each waiting for the other.
const SENDS_IN_FLIGHT: usize = 8;

/// Where `analyze`'s units are judged: on a thread beside the reading, or (a thread
/// could not be started, or the judging is done) here. One of the two is set.
pub(super) struct Work {
    here: Option<Box<Judging>>,
    beside: Option<Beside>,
}

/// The thread judging the units, and the jobs not sent to it yet.
struct Beside {
    jobs: Vec<Job>,
    tx: SyncSender<Vec<Job>>,
    thread: JoinHandle<Box<Judging>>,
}

impl Beside {
    /// Every job sent judged: the judging, back.
    fn join(self) -> Box<Judging> {
        let Beside { jobs, tx, thread } = self;
        if !jobs.is_empty() {
            // The thread has gone only if it panicked: `join` passes that on.
            let _ = tx.send(jobs);
        }
        drop(tx);
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

impl Work {
    /// The judging of `judging`'s units, on a thread of its own when one can be started.
    pub(super) fn start(judging: Judging) -> Work {
        let (tx, rx): (SyncSender<Vec<Job>>, Receiver<Vec<Job>>) = sync_channel(SENDS_IN_FLIGHT);
        // The judging moves to the thread only once it has started.
        let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(Box::new(judging))));
        let theirs = std::sync::Arc::clone(&slot);
        let spawned = std::thread::Builder::new()
            .name("sipdiag-judge".into())
            .spawn(move || {
                let taken = theirs.lock().ok().and_then(|mut s| s.take());
                let mut judging = taken.expect("the judging is handed over once");
                for jobs in rx {
                    for job in jobs {
                        judging.run(job);
                    }
                }
                judging
            });
        match spawned {
            Ok(thread) => Work {
                here: None,
                beside: Some(Beside {
                    jobs: Vec::with_capacity(JOBS_AT_ONCE),
                    tx,
                    thread,
                }),
            },
            Err(_) => Work {
                here: slot.lock().ok().and_then(|mut s| s.take()),
                beside: None,
            },
        }
    }

    pub(super) fn send(&mut self, job: Job) {
        if let Some(Beside { jobs, tx, .. }) = &mut self.beside {
            jobs.push(job);
            if jobs.len() >= JOBS_AT_ONCE {
                let full = std::mem::replace(jobs, Vec::with_capacity(JOBS_AT_ONCE));
                // The thread has gone only if it panicked: `finish` passes that on.
                let _ = tx.send(full);
            }
        } else if let Some(judging) = &mut self.here {
            judging.run(job);
        }
    }

    /// Every job sent judged: the judging, back on this thread.
    pub(super) fn finish(&mut self) -> &mut Judging {
        if let Some(beside) = self.beside.take() {
            self.here = Some(beside.join());
        }
        self.here
            .as_mut()
            .expect("a judging is here once the thread has gone")
    }

    /// Every job sent judged: the judging.
    pub(super) fn into_judging(mut self) -> Box<Judging> {
        self.finish();
        self.here
            .take()
            .expect("a judging is here once the thread has gone")
    }
}

#[cfg(test)]
mod tests {
    use super::super::kept::Report;
    use super::*;
    use crate::calls::legs::RoleTally;
    use crate::report::analysis_spool::Layout;

    fn judging() -> Judging {
        Judging {
            rules: UnitRules {
                choice: RuleChoice::new(&[], &[], &[]).expect("no options"),
                ipo: Vec::new(),
                ipo_config: None,
                last_reports: Vec::new(),
            },
            seen: rules::Seen::default(),
            site: Site::default(),
            waiting: Deferred::default(),
            kept: Kept {
                tally: RoleTally::default(),
                report: Box::new(Report::new(Layout::Held)),
                trunks: None,
            },
        }
    }

    /// Three full sends and a part of one: every job reaches the judging, on a thread
    /// of its own or here, the last ones when the judging is taken back.
    #[test]
    fn every_job_sent_is_judged_beside_the_reading_or_here() {
        let jobs = 3 * JOBS_AT_ONCE + 5;
        let trunk = |i: usize| SocketAddr::from(([10, 0, (i / 250) as u8, (i % 250) as u8], 5060));
        let beside = Work::start(judging());
        assert!(
            beside.beside.is_some(),
            "the judging runs on a thread of its own"
        );
        let here = Work {
            here: Some(Box::new(judging())),
            beside: None,
        };
        for mut work in [beside, here] {
            for i in 0..jobs {
                work.send(Job::Working(BTreeSet::from([trunk(i)])));
            }
            let judging = work.into_judging();
            let seen: Vec<SocketAddr> = judging.seen.working_trunks.iter().copied().collect();
            let sent: BTreeSet<SocketAddr> = (0..jobs).map(trunk).collect();
            assert_eq!(seen, sent.into_iter().collect::<Vec<_>>());
        }
    }
}
