//! What the units of a streamed `analyze` show, kept for its report ([`super::stream`]):
//! their findings spooled in report order, their verdicts and call rows, the counts, and
//! the numbers FM002's suggestion is proven on. Input: each judged unit
//! ([`super::units`]) and the findings of no unit; output: the [`Analysis`] and what is
//! spooled of it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::calls::Call;
use crate::calls::legs::{Legs, RoleTally, Roles};
use crate::media::MediaReport;
use crate::numbers::Site;
use crate::report::analysis::{Analysis, CallSummary};
use crate::report::analysis_spool::{AnalysisRows, FindingRows, Layout, Spooled, report_key};
use crate::report::verdict::{Counts, Verdict};
use crate::rules::Finding;

use super::super::annotate::Comments;
use super::focused::Focused;
use super::ladders::{LadderPass, lock};
use super::speculate::TrunksRead;

/// A streamed analysis: the report, and its verdicts (and, for JSON, its call rows and
/// findings), spooled.
pub(in crate::app) type Streamed = (Analysis, Option<Spooled>);

/// What a streamed `analyze` keeps of the units: the INVITEs to and from XCC
/// (which name the PBXs) and the report.
pub(super) struct Kept {
    pub(super) tally: RoleTally,
    pub(super) report: Box<Report>,
    /// On a reading that judges with what the capture has shown so far
    /// ([`super::speculate`]): whether a unit read the trunks seen working before the
    /// last of them came.
    pub(super) trunks: Option<TrunksRead>,
}

/// Findings in report order: worst first, then by first frame, then in catalogue order
/// (as `analyze` lists them when it holds every call). A unit's findings are put in it
/// before its verdicts name their rules, so that a verdict names them in that order.
pub(super) fn report_order(findings: &mut [Finding]) {
    findings.sort_by_key(|f| report_key(f, crate::rules::catalogue_rank(f.id)));
}

/// What the units judged show, for the report.
pub(super) struct Report {
    /// FM002 findings, until the numbers of the whole capture complete them.
    pending: Vec<Finding>,
    /// Those of the units a focus does not show: their numbers are in the suggestion all
    /// the same (it must fix every number of the capture).
    unshown: Vec<Finding>,
    /// The others, spooled in report order (small records kept).
    found: FindingRows,
    /// The calls of the findings made after their unit was judged (capture rules, media of
    /// no unit): their verdicts are told again at the end.
    late: HashSet<String>,
    /// Verdicts and call rows, by the place of their call among the capture's calls.
    rows: AnalysisRows,
    counts: Counts,
    /// The numbers forwarded to XCC, for FM002's suggestion.
    pub(super) diversions: crate::rules::diversions::Diversions,
    /// The first error writing the spooled rows.
    error: Option<std::io::Error>,
    /// The focus the report shows, if any.
    focused: Option<Focused>,
    /// With a focus: which calls of the unit last asked about ([`Report::shows`]) it
    /// keeps.
    kept: Vec<bool>,
    /// What the reading collects for `analyze --flow`'s ladders.
    ladders: Option<LadderPass>,
    /// The comments of `analyze --annotate`, gathered as the findings come.
    comments: Option<Arc<Mutex<Comments>>>,
}

impl Report {
    pub(super) fn new(layout: Layout) -> Self {
        Report {
            error: None,
            pending: Vec::new(),
            unshown: Vec::new(),
            found: FindingRows::new(layout),
            late: HashSet::new(),
            rows: AnalysisRows::new(layout),
            counts: Counts::default(),
            diversions: Default::default(),
            focused: None,
            kept: Vec::new(),
            ladders: None,
            comments: None,
        }
    }

    /// The report shows the units `focus` selects (none given: every unit).
    pub(super) fn focus(&mut self, focus: crate::calls::focus::Focus) {
        self.focused = (!focus.is_empty()).then(|| Focused::new(focus));
    }

    /// Whether the unit of `calls` (linked as `legs`) is shown: no focus, or one that
    /// selects it (`day`: the time of the capture's first call).
    pub(super) fn shows(
        &mut self,
        calls: &[Call],
        legs: &Legs,
        day: Option<crate::capture::Timestamp>,
    ) -> bool {
        let Some(f) = self.focused.as_mut() else {
            return true;
        };
        self.kept = f.shows(calls, legs, day);
        self.kept.contains(&true)
    }

    /// The reading gathers the comments of `analyze --annotate` into `comments`, emptied
    /// first: of a file read twice, the second reading's are the ones written.
    pub(super) fn comments(&mut self, comments: Arc<Mutex<Comments>>) {
        *lock(&comments) = Comments::default();
        self.comments = Some(comments);
    }

    /// The reading collects `pass` for the ladders of `analyze --flow`.
    pub(super) fn ladders(&mut self, pass: LadderPass) {
        pass.restart();
        self.ladders = Some(pass);
    }

    /// The findings of a unit not shown: those FM002's suggestion is written from.
    pub(super) fn unshown(&mut self, findings: Vec<Finding>) {
        (self.unshown).extend(findings.into_iter().filter(|f| f.pending.is_some()));
    }

    /// Fails when a focus was given and no call met it.
    pub(super) fn check_focus(&self) -> anyhow::Result<()> {
        self.focused.as_ref().map_or(Ok(()), Focused::check)
    }

    /// A unit judged: its calls (at `places`), legs and media, what was found on them
    /// and their verdicts.
    pub(super) fn unit(
        &mut self,
        places: &[u64],
        calls: &[Call],
        legs: &Legs,
        media: &MediaReport,
        findings: Vec<Finding>,
        verdicts: Vec<Verdict>,
    ) {
        let rows = || -> std::io::Result<()> {
            // A selection, of a unit whose every call the focus selects: they are in the
            // focus's own set, joined with the selection at the end ([`Report::analysis`]);
            // a million calls shown are kept once, not twice. (Of a unit the focus selects
            // in part, the selection takes every call, as the unit is shown whole.)
            let in_focus = self.focused.is_some()
                && self.kept.len() == calls.len()
                && self.kept.iter().all(|&k| k);
            if in_focus && self.rows.selects_only() {
                return Ok(());
            }
            for (&pos, c) in places.iter().zip(calls) {
                if !self.rows.select(&c.call_id) {
                    self.rows.call(pos, CallSummary::new(c, legs, media))?;
                }
            }
            for v in verdicts {
                let first = calls.iter().position(|c| c.call_id == v.call_ids[0]);
                let pos = first.map_or(u64::MAX, |i| places[i]);
                self.rows.verdict(pos, v)?;
            }
            Ok(())
        };
        // A reading for the ladders' groups shows nothing: no row (not even the Call-ID of
        // each call shown, a million of them in a day's capture).
        let groups_only = matches!(self.ladders, Some(LadderPass::Groups(_)));
        if !groups_only && let Err(e) = rows() {
            self.error.get_or_insert(e);
        }
        let k = crate::report::verdict::counts(calls, legs, media, &[]);
        self.counts.add_calls(&k);
        if let Some(l) = &self.ladders {
            let every;
            let keep = if self.focused.is_some() {
                &self.kept[..]
            } else {
                every = vec![true; calls.len()];
                &every[..]
            };
            l.unit(places, calls, legs, keep);
        }
        self.take(findings);
    }

    /// Findings, counted by rule: FM002's wait for the end, the others are spooled.
    fn take(&mut self, findings: Vec<Finding>) {
        for f in findings {
            if let Some(l) = &self.ladders {
                l.finding(&f);
            }
            *(self.counts.findings_by_rule)
                .entry(f.id.to_string())
                .or_default() += 1;
            if f.pending.is_some() {
                self.pending.push(f);
                continue;
            }
            if let Err(e) = self.found(f) {
                self.error.get_or_insert(e);
            }
        }
    }

    /// A finding complete, into the report (and its comments, for `--annotate`).
    fn found(&mut self, f: Finding) -> std::io::Result<()> {
        let rank = crate::rules::catalogue_rank(f.id);
        if let Some(c) = &self.comments {
            lock(c).add(&f, report_key(&f, rank))?;
        }
        self.found.push(f, rank)
    }

    /// Findings of no unit (media of no call, SP003 findings that waited for UDP, the
    /// capture rules').
    pub(super) fn loose(&mut self, mut findings: Vec<Finding>) {
        if let Some(focused) = &self.focused {
            findings.retain(|f| focused.shows_loose(f));
        }
        self.late
            .extend(findings.iter().filter_map(|f| f.call_id.clone()));
        self.take(findings);
    }

    /// The input has ended: the capture's RTP streams (`rtp_streams`) and its ICE
    /// sessions (in `media`) are counted.
    pub(super) fn end(&mut self, media: &MediaReport, rtp_streams: u64) {
        self.counts.rtp_streams = rtp_streams as usize;
        let sessions = media.ice_sessions();
        self.counts.ice_sessions = sessions.len();
        self.counts.ice_connected = (sessions.iter())
            .filter(|s| s.sides.iter().any(|side| side.answered > 0))
            .count();
    }

    /// The report: every finding in report order, verdicts and calls in the order of the
    /// calls (or, spooled, beside it).
    pub(super) fn analysis(
        mut self,
        site: Site,
        roles: Roles,
        captures: Vec<crate::sip::CaptureReport>,
        udp: u64,
    ) -> std::io::Result<Streamed> {
        if let Some(e) = self.error {
            return Err(e);
        }
        // FM002's suggestion, proven on every number of the capture.
        // The numbers let go at the cap: reported where a suggestion was proven on them.
        let suggested = (self.pending.iter().chain(&self.unshown)).any(|f| f.pending.is_some());
        let shown = self.pending.len();
        self.pending.append(&mut self.unshown);
        crate::rules::diversions::complete(&mut self.pending, &self.diversions, &site);
        self.pending.truncate(shown);
        if suggested && let Some(f) = self.diversions.limit_finding() {
            self.take(vec![f]);
        }
        for f in std::mem::take(&mut self.pending) {
            self.found(f)?;
        }
        let mut a = Analysis::new(
            site,
            roles,
            captures,
            Vec::new(),
            self.counts,
            Vec::new(),
            Vec::new(),
        );
        let rules_of = self.found.rules_of(&self.late);
        let findings = self.found.finish(&mut a, udp)?;
        let mut json = self.rows.finish(&mut a, &self.late, rules_of, findings)?;
        if let Some(Spooled::Selection(shown)) = json.as_mut()
            && let Some(f) = self.focused.take()
        {
            shown.absorb(f.into_calls());
        }
        Ok((a, json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::CallSet;
    use crate::calls::focus::Focus;
    use crate::calls::legs::link_legs;
    use crate::sip::message::udp_message as message;

    /// A first leg and the two second legs XCC placed for it: one unit of three calls.
    fn unit_of_three() -> (Vec<Call>, Legs, Roles) {
        let (pbx, xcc) = ("10.0.0.1:5060", "10.0.0.2:5060");
        let invite = |id: &str| {
            format!(
                "INVITE sip:1@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK{id}\r\nFrom: <sip:7@x>;tag=1\r\nTo: <sip:1@x>\r\nCall-ID: {id}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
            )
        };
        let mut set = CallSet::default();
        set.add(message(&invite("f"), pbx, xcc, 1));
        set.add(message(&invite("s1"), xcc, pbx, 2));
        set.add(message(&invite("s2"), xcc, pbx, 3));
        let roles = Roles {
            xcc: vec!["10.0.0.2".parse().expect("an address")],
            ..Roles::default()
        };
        let legs = link_legs(&set.calls, &roles);
        assert_eq!(legs.units(&set.calls), [0, 0, 0], "{:?}", legs.links);
        (set.calls, legs, roles)
    }

    /// A selection holds every call of each unit shown: kept once (in the focus's set)
    /// when the focus selects the whole unit, added whole when it selects a part (a
    /// second leg brings its first leg, not the other second leg).
    #[test]
    fn a_selection_holds_every_call_of_a_unit_shown_whole_or_in_part() {
        for (asked, kept) in [("f", [true; 3]), ("s1", [true, true, false])] {
            let (calls, legs, roles) = unit_of_three();
            let mut r = Report::new(Layout::Selection);
            r.focus(Focus {
                call_ids: vec![asked.into()],
                ..Focus::default()
            });
            assert!(r.shows(&calls, &legs, None));
            assert_eq!(r.kept, kept, "{asked}");
            r.unit(
                &[0, 1, 2],
                &calls,
                &legs,
                &MediaReport::default(),
                Vec::new(),
                Vec::new(),
            );
            let (_, spooled) = r
                .analysis(Site::default(), roles, Vec::new(), 0)
                .expect("no spool to write");
            let Some(Spooled::Selection(shown)) = spooled else {
                panic!("{asked}: no selection");
            };
            assert_eq!(shown.len(), 3, "{asked}");
            assert!(["f", "s1", "s2"].iter().all(|id| shown.contains(id)));
        }
    }
}
