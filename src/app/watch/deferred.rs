//! SP003 findings that wait while the capture has shown no UDP besides SIP: until then,
//! an answered call without media cannot be told from a capture filtered to signalling.
//! They are printed once UDP comes, or become the one finding of a capture without media
//! at the end. Input: SP003 findings; output: the same findings, or that one.

use std::collections::BTreeMap;

use crate::rules::Finding;
use crate::rules::sp003_media_missing::LISTED_SILENT_CALLS;

/// SP003 findings kept whole while the capture has shown no UDP besides SIP; past them,
/// only what the one finding of a capture without media names.
pub const DEFERRED_FINDINGS: usize = 1000;

/// SP003 findings on calls judged while the capture had shown no UDP besides SIP.
#[derive(Debug, Default)]
pub(super) struct Deferred {
    /// The first [`DEFERRED_FINDINGS`], whole (should UDP come after all, the findings
    /// past them are counted, not printed: `left_out`).
    findings: Vec<Finding>,
    left_out: u64,
    /// Of the calls that lasted long enough to have had media, the first
    /// [`LISTED_SILENT_CALLS`] in capture order, whatever order they were judged in:
    /// (INVITE frame, arrival) → Call-ID, setup frames.
    listed: BTreeMap<(u64, u64), (String, Vec<u64>)>,
    /// The calls that lasted long enough to have had media, in all.
    silent: u64,
    /// The calls of the findings pushed while the unit being judged was judged
    /// ([`Deferred::judged`] takes them).
    unit_calls: Vec<String>,
    /// Verdicts told OK only because their SP003 finding waited: failed should UDP come.
    told_ok: u64,
}

/// SP003 findings whose wait has ended because UDP came ([`Deferred::take`]).
#[derive(Debug, Default)]
pub(super) struct Released {
    /// The findings kept whole, their evidence counting the capture's UDP.
    pub(super) findings: Vec<Finding>,
    /// How many past them were not kept.
    pub(super) left_out: u64,
    /// Verdicts told OK because their finding waited, which now fail.
    pub(super) failed: u64,
}

impl Deferred {
    pub(super) fn push(&mut self, f: Finding) {
        let duration = f.evidence["duration_s"].as_f64();
        if let Some(id) = &f.call_id {
            self.note(id, &f.frames, duration);
        }
        if self.findings.len() < DEFERRED_FINDINGS {
            self.findings.push(f);
        } else {
            self.left_out += 1;
        }
    }

    /// Whether the findings kept whole are [`DEFERRED_FINDINGS`]: those of calls judged
    /// from now on would only be counted ([`Deferred::count`]).
    pub(super) fn is_full(&self) -> bool {
        self.findings.len() >= DEFERRED_FINDINGS
    }

    /// The finding on call `call_id` (its frames, its duration in seconds as the
    /// finding's evidence gives it), once [`Deferred::is_full`]: noted and counted as
    /// [`Deferred::push`] notes and counts the finding, which need not be written.
    pub(super) fn count(&mut self, call_id: &str, frames: &[u64], duration: f64) {
        self.note(call_id, frames, Some(duration));
        self.left_out += 1;
    }

    /// A waiting finding on `call_id`: its call counted for the unit's verdicts, and
    /// listed for the one finding of a capture without media when it lasted long enough.
    fn note(&mut self, call_id: &str, frames: &[u64], duration: Option<f64>) {
        use crate::rules::sp003_media_missing::SHORT_CALL_SECS;
        self.unit_calls.push(call_id.to_string());
        let Some(&invite) = frames.first() else {
            return;
        };
        if duration.is_none_or(|d| d < SHORT_CALL_SECS) {
            return;
        }
        let at = (invite, self.silent);
        self.silent += 1;
        // Past the list's bound, a call later than every one listed is counted only.
        let full = self.listed.len() >= LISTED_SILENT_CALLS;
        if !full
            || self
                .listed
                .last_key_value()
                .is_some_and(|(last, _)| at < *last)
        {
            if full {
                self.listed.pop_last();
            }
            self.listed
                .insert(at, (call_id.to_string(), frames.to_vec()));
        }
    }

    /// The unit whose findings were pushed last has been judged: of `verdicts`, those told
    /// OK on a call whose SP003 finding waits are counted, to fail should UDP come.
    pub(super) fn judged(&mut self, verdicts: &[crate::report::verdict::Verdict]) {
        if self.unit_calls.is_empty() {
            return;
        }
        let calls = std::mem::take(&mut self.unit_calls);
        self.told_ok += (verdicts.iter())
            .filter(|v| v.ok && v.call_ids.iter().any(|id| calls.contains(id)))
            .count() as u64;
    }

    pub(super) fn is_empty(&self) -> bool {
        self.findings.is_empty() && self.listed.is_empty()
    }

    /// UDP has come: the findings, their evidence counting `udp` datagrams (see
    /// [`Released`]).
    pub(super) fn take(&mut self, udp: u64) -> Released {
        self.listed = BTreeMap::new();
        self.silent = 0;
        let mut findings = std::mem::take(&mut self.findings);
        for f in &mut findings {
            crate::rules::sp003_media_missing::set_udp_in_capture(&mut f.evidence, udp);
        }
        Released {
            findings,
            left_out: std::mem::take(&mut self.left_out),
            failed: std::mem::take(&mut self.told_ok),
        }
    }

    /// No UDP came: the one SP003 finding of a capture without media, on the calls that
    /// lasted long enough to have had media (`None`: none did).
    pub(super) fn no_media_finding(self) -> Option<Finding> {
        use crate::rules::sp003_media_missing::{SilentCall, no_media_in_capture};
        if self.silent == 0 {
            return None;
        }
        let silent: Vec<SilentCall<'_>> = (self.listed.iter())
            .map(|(&(invite, _), (id, frames))| SilentCall {
                call_id: id,
                invite_frame: invite,
                setup_frames: frames.clone(),
            })
            .collect();
        let mut f = no_media_in_capture(&silent, self.silent as usize);
        // On one call: that call's lines, quoted when it was judged.
        if let Some(id) = f.call_id.as_deref() {
            let quoted = self
                .findings
                .iter()
                .find(|d| d.call_id.as_deref() == Some(id));
            f.proof = quoted.map(|d| d.proof.clone()).unwrap_or_default();
        }
        Some(f)
    }
}
