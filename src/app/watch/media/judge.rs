//! The media's part of the judge: what no unit of calls prints (the streams of no call,
//! the SP003 findings that waited for UDP, the end rules on STUN and softphones).

use crate::calls::legs::infer_roles_knowing;
use crate::cli::WatchFormat;
use crate::report::analysis::Analysis;
use crate::report::watch::{call_block, call_json};
use crate::rules;

use super::super::{Judge, print};

/// The media's part of the judge: what no unit of calls prints.
impl Judge {
    /// Lets go of the media no call waiting to be judged reads; judges the streams of no
    /// call among it, and prints the SP003 findings that waited once UDP has come.
    pub(in crate::app::watch) fn sweep_media(&mut self, now: i64) {
        let loose = self.media.sweep(now);
        self.judge_loose(loose);
        self.flush_deferred();
    }

    /// SP006 on streams of no call, once they have ended.
    pub(in crate::app::watch) fn judge_loose(&mut self, rtp: Vec<crate::media::RtpStream>) {
        if rtp.is_empty() || !self.rule_enabled("SP006") {
            return;
        }
        let media = crate::media::MediaReport {
            settings: Some(self.ports.clone()),
            rtp,
            ..Default::default()
        };
        let roles = self.roles_of(&[]);
        let (legs, ipo) = Default::default();
        let site = self.given_site();
        let cx = rules::Context {
            captures: &[],
            calls: &[],
            roles: &roles,
            legs: &legs,
            site,
            media: &media,
            ipo: &ipo,
            seen: &self.seen,
        };
        let mut findings = rules::run_selected(&cx, &|r| r.info().id == "SP006");
        self.unit_rules.choice.apply_severity(&mut findings);
        self.print_findings(findings);
    }

    /// Whether the rule `id` runs (`--select`, `--ignore`).
    fn rule_enabled(&self, id: &str) -> bool {
        rules::lookup(id).is_some_and(|r| self.unit_rules.choice.enabled(r.info()))
    }

    /// Prints findings that belong to no unit of calls (media of no call; SP003 findings
    /// that waited for the capture to show UDP), as a record without verdicts.
    fn print_findings(&mut self, mut findings: Vec<rules::Finding>) {
        if findings.is_empty() {
            return;
        }
        let several = self.files.several().is_some();
        for f in &mut findings {
            f.capture = (!several).then(|| self.file_path.clone());
            *self.end.findings.entry(f.id).or_default() += 1;
            self.failing |= self.fail_on.is_some_and(|t| f.severity >= t);
        }
        let Some(findings) = self.report_loose(findings) else {
            return;
        };
        let files = self.files.several();
        let began = None;
        let a = Analysis::new(
            self.site.clone(),
            infer_roles_knowing(&[], &self.xcc, &self.pbx, &self.known),
            Vec::new(),
            Vec::new(),
            Default::default(),
            Vec::new(),
            findings,
        );
        let text = match self.format {
            WatchFormat::Json => call_json(&a, began, files),
            WatchFormat::Table => call_block(&a, began, &self.text, files) + "\n",
        };
        print(&text);
    }

    /// Prints the SP003 findings that waited for UDP once the capture has shown some.
    pub(in crate::app::watch) fn flush_deferred(&mut self) {
        let udp = self.media.udp_datagrams();
        if self.media.deferred.is_empty() || udp == 0 {
            return;
        }
        let released = self.media.deferred.take(udp);
        self.end.deferred_left_out += released.left_out;
        // Their calls were counted healthy when judged: they fail now.
        self.end.failed += released.failed;
        self.print_findings(released.findings);
    }
}
