//! A judge set up from the command's options, and what it does once the input has ended:
//! the calls still in progress judged, the limits reached reported, the media of no call
//! and the capture rules judged.

use crate::calls::Call;
use crate::calls::legs::KnownXcc;
use crate::calls::retire::Retiring;
use crate::cli::{MediaPortArgs, WatchFormat};
use crate::numbers::SiteTally;
use crate::report::analysis::TextOptions;
use crate::report::watch::WatchEnd;
use crate::rules::{self, Scope};

use super::super::analyze::{RuleChoice, endpoints, fail_threshold};
use super::super::site_settings;
use super::may_link::MayLink;
use super::units::{Job, UnitRules};
use super::{Held, Judge, media};

/// What a judge is set up with: the command's options.
pub(super) struct JudgeSetup<'a> {
    pub(super) site: &'a crate::cli::SiteArgs,
    pub(super) ports: &'a MediaPortArgs,
    pub(super) judge: &'a crate::cli::JudgeArgs,
    pub(super) format: WatchFormat,
    pub(super) text: TextOptions,
}

impl Judge {
    pub(super) fn new(o: &JudgeSetup<'_>) -> anyhow::Result<Judge> {
        let (site, settings) = site_settings(o.site, o.ports)?;
        let ipo_config = (o.judge.ipo_config)
            .as_deref()
            .map(super::super::ipo_route::load_config)
            .transpose()?;
        Ok(Judge {
            retiring: Retiring::default(),
            last_message: None,
            first_call: None,
            pending: Vec::new(),
            waited_short: Default::default(),
            alone: (Vec::new(), i64::MIN),
            may_link: MayLink::default(),
            tally: SiteTally::default(),
            looked: i64::MIN,
            offset: 0,
            file_path: String::new(),
            files: crate::capture::merge::FrameIndex::concatenated(),
            known: KnownXcc::default(),
            ipo: Default::default(),
            ipo_whole: None,
            replaying: super::super::ipo_route::replaying(&o.judge.ipo, ipo_config.as_ref()),
            seen: rules::Seen::default(),
            xcc: endpoints(&o.judge.xcc)?,
            pbx: endpoints(&o.judge.pbx)?,
            site,
            media: media::WatchMedia::new(settings.clone()),
            ports: settings,
            unit_rules: UnitRules {
                choice: RuleChoice::new(&o.judge.select, &o.judge.ignore, &o.judge.severity)?,
                ipo: o.judge.ipo.clone(),
                ipo_config,
                last_reports: Vec::new(),
            },
            format: o.format,
            text: o.text,
            fail_on: fail_threshold(o.judge.fail_on),
            failing: false,
            end: WatchEnd::default(),
            stream: None,
        })
    }

    /// This judge only finds which calls a focus shows (a listing's selection,
    /// [`crate::report::analysis_spool::Layout::Selection`]): no rule runs, and the media
    /// is only counted. Which units form, and which a focus selects, read the calls and
    /// their roles, not the media nor the findings.
    pub(super) fn select_only(&mut self) {
        self.unit_rules.choice = RuleChoice::none();
        self.media.count_only();
    }

    /// The input has ended: every call in progress retires and is judged.
    pub(super) fn judge_the_rest(&mut self) {
        let rest: Vec<(u64, Call)> = self.retiring.finish().collect();
        self.pending
            .extend(rest.into_iter().map(|(pos, call)| Held {
                call,
                pos,
                at: 0,
                counted: false,
            }));
        // Files read merged: their calls name the file that carried them, among all.
        let last = match self.files.is_concatenated() {
            true => self.end.captures.last().cloned().into_iter().collect(),
            false => self.end.captures.clone(),
        };
        match self.stream.as_deref_mut().and_then(|s| s.work()) {
            Some(work) => work.send(Job::LastReports(last)),
            None => self.unit_rules.last_reports = last,
        }
        self.judge_ready(None);
    }

    /// The calls judged before the wait for their legs ended, on the report of the file
    /// the first came from, its message in that file's frame numbers (and, for `watch`,
    /// its `frames`; files read merged cite the merged stream's, by file at the end).
    fn report_waited_short(&mut self) {
        let mut past = self.waited_short.clone();
        let place = past.first_frame.and_then(|n| self.files.locate(n));
        let path = place.and_then(|p| self.files.paths().get(p.file).cloned());
        if let Some(p) = place
            && self.files.is_concatenated()
        {
            past.first_frame = Some(p.frame);
        }
        let cap = self.retiring.let_go.cap;
        past.report_on(&mut self.end.captures, path.as_deref(), |count, first| {
            crate::capture::Anomaly {
                kind: crate::calls::LetGo::WAIT_KIND,
                message: format!(
                    "calls waiting for their Follow-Me legs over the cap ({} {cap}): {count} call(s) judged before the legs they may be linked with could retire (more retired within the wait than the cap, or the capture's clock stood still), the first beginning in frame {}",
                    crate::limits::Limits::CALLS,
                    place.map_or(first, |p| p.frame),
                ),
                frames: vec![first],
                count,
                flow: None,
            }
        });
    }

    /// The input has ended: the calls in progress are judged, then the media of no call
    /// and the capture rules; returns the capture's findings (counted in `end`).
    pub(super) fn end_of_input(&mut self) -> Vec<rules::Finding> {
        self.judge_the_rest();
        self.units_judged();
        self.end.reopened = self.retiring.reopened();
        self.end.peak_calls = self.retiring.peak_live();
        // Frames are numbered through the files: the calls let go are reported on the
        // report of the file the first came from, in that file's frame numbers, as the
        // other capture findings of a watch are (a live capture, which has no file: on
        // its report).
        // `watch` cites it in that file's numbers; files read merged (`analyze`) cite it
        // in the merged stream's, by file at the end, as when every call is held.
        let mut let_go = self.retiring.let_go.clone();
        let place = let_go.past.first_frame.and_then(|n| self.files.locate(n));
        let path = place.and_then(|p| self.files.paths().get(p.file).cloned());
        let files = &self.files;
        let own = files.is_concatenated();
        if let Some(p) = place
            && own
        {
            let_go.past.first_frame = Some(p.frame);
        }
        let_go.report_on(
            &mut self.end.captures,
            path.as_deref(),
            if self.retiring.drops_let_go() {
                crate::calls::LetGo::DROPPED
            } else {
                "judged before they ended"
            },
            &|n| match own {
                true => n,
                false => files.locate(n).map_or(n, |p| p.frame),
            },
        );
        self.report_waited_short();
        // Frames are numbered through the files read: the message names the file's own.
        let cap = &self.retiring.message_cap;
        let files = &self.files;
        let path_of = |past: &crate::calls::Past| {
            let place = past.first_frame.and_then(|n| files.locate(n));
            place.and_then(|p| files.paths().get(p.file).cloned())
        };
        let own = |n: u64| files.locate(n).map_or(n, |p| p.frame);
        cap.report_on(&mut self.end.captures, &path_of, &own);
        // The media of no call, and the SP003 findings that waited for UDP: printed now,
        // or (none came) made the one finding of a capture without media.
        self.flush_deferred();
        let waited = std::mem::take(&mut self.media.deferred);
        let fresh = media::WatchMedia::new(self.ports.clone());
        let (media, loose, rtp_streams) = std::mem::replace(&mut self.media, fresh).finish();
        self.judge_loose(loose);
        // The capture rules: on the files' reports, and on what the calls judged showed
        // (FM001, FM005: the digests of `rules::Seen`), with the XCC the calls identified;
        // and the softphone's media rules, on the capture's STUN and softphone streams.
        let roles = self.roles_of(&[]);
        let (legs, ipo) = Default::default();
        let reports = self.end.captures.clone();
        let site = self.given_site();
        let cx = rules::Context {
            captures: &reports,
            calls: &[],
            roles: &roles,
            legs: &legs,
            site,
            media: &media,
            ipo: &ipo,
            seen: &self.seen,
        };
        let mut capture_findings = rules::run_selected(&cx, &|r| {
            (r.scope() == Scope::Capture || media::END_RULES.contains(&r.info().id))
                && self.unit_rules.choice.enabled(r.info())
        });
        if let Some(f) = waited.no_media_finding() {
            capture_findings.push(f);
        }
        self.unit_rules.choice.apply_severity(&mut capture_findings);
        // One file: the findings name it, as `analyze`'s do (several: frames cited by file).
        if let [only] = self.files.paths() {
            for f in capture_findings.iter_mut().filter(|f| f.capture.is_none()) {
                f.capture = Some(only.clone());
            }
        }
        for f in &capture_findings {
            *self.end.findings.entry(f.id).or_default() += 1;
            self.failing |= self.fail_on.is_some_and(|t| f.severity >= t);
        }
        if let Some(work) = self.stream.as_deref_mut().and_then(|s| s.work()) {
            work.finish().kept.report.end(&media, rtp_streams);
        }
        capture_findings
    }
}
